"""Constants shared by the attack code and the table/plot code (no torch import here)."""

from reproflow.vocab import attack_names

# Slack on the l_inf constraint for float32 round-off (tests and the semantic-check table use it).
LINF_TOL = 1e-6
# Label of pyautoattack's APGD-CE run alone, the library reference for the PGD cross-check.
CROSSCHECK_LABEL = "apgd_ce"
# Suffix of the attack label when a semantic attack runs with the analytic rotation oracle.
ORACLE_SUFFIX = "_oracle"
# Suffix of the attack label when a semantic attack runs with the learned (MSP) editor beside the exact
# rotation, which is the primary editor on the rotation sets (issue #11).
LEARNED_SUFFIX = "_learned"
# Attacks that edit the attribute through an editor (their labels take the oracle/learned suffixes).
SEMANTIC_ATTACKS = attack_names(editor_label=True)
# Attacks that run through the pretrained noise generator (it must be trained through the editor they use).
GENERATOR_ATTACKS = attack_names(generator=True)
# Attack label of the learned editor's gate rows (judge accuracies) in the tidy attack table.
GATE_LABEL = "learned_editor"
# Attack label of the per-image worst case over attack.reference (issue 21): the joint threat's reference.
REFERENCE_LABEL = "reference"
