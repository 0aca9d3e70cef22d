"""Constants shared by the attack code and the table/plot code (no torch import here)."""

from reproflow.vocab import CROSSCHECK_LABEL, LEARNED_SUFFIX, ORACLE_SUFFIX, REFERENCE_LABEL, attack_names

__all__ = ["CROSSCHECK_LABEL", "GATE_LABEL", "GENERATOR_ATTACKS", "LEARNED_SUFFIX", "LINF_TOL", "ORACLE_SUFFIX",
           "REFERENCE_LABEL", "SEMANTIC_ATTACKS"]  # the label names are declared in reproflow.vocab

# Slack on the l_inf constraint for float32 round-off (tests and the semantic-check table use it).
LINF_TOL = 1e-6
# Attacks that edit the attribute through an editor (their labels take the oracle/learned suffixes).
SEMANTIC_ATTACKS = attack_names(editor_label=True)
# Attacks that run through the pretrained noise generator (it must be trained through the editor they use).
GENERATOR_ATTACKS = attack_names(generator=True)
# Attack label of the learned editor's gate rows (judge accuracies) in the tidy attack table.
GATE_LABEL = "learned_editor"
