"""The vocabulary (reproflow.vocab) is the one declaration of attacks, defences, datasets and activations: the
schema's closed sets are generated from it, and every hand-written enum of those names agrees with it."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import yaml

from reproflow import vocab
from reproflow.config import load_schema

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "workflow" / "schemas"
KINDS = {"attacks": {a.name for a in vocab.ATTACKS}, "defences": {d.name for d in vocab.DEFENCES},
         "datasets": {d.name for d in vocab.DATASETS}, "activations": set(vocab.ACTIVATIONS)}


def _walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_no_schema_file_types_a_vocabulary_enum_by_hand():
    """Closed sets of attack, defence, dataset or activation names are ``x-vocab`` selectors, never lists."""
    for path in sorted(SCHEMAS.glob("*.yaml")):
        for node in _walk(yaml.safe_load(path.read_text())):
            for kind, names in KINDS.items():
                # two names of one kind make a closed set of that kind (one may be a homonym: autoattack 'standard')
                if "enum" in node and len(set(node["enum"]) & names) >= 2:
                    raise AssertionError(f"{path.name}: enum {node['enum']} lists {kind}: use x-vocab")


def test_the_loaded_schema_enums_are_the_vocabulary():
    schema = load_schema(SCHEMAS)
    props = schema["properties"]
    assert props["attack"]["properties"]["attacks"]["items"]["enum"] == list(vocab.attack_names())
    assert props["attack"]["properties"]["learned_attacks"]["items"]["enum"] == list(vocab.attack_names(editor=True))
    assert props["advtrain"]["properties"]["defences"]["items"]["enum"] == [d.name for d in vocab.DEFENCES]
    assert props["data"]["properties"]["datasets"]["items"]["enum"] == [d.name for d in vocab.DATASETS]
    assert props["pretrain"]["properties"]["datasets"]["items"]["enum"] == [d.name for d in vocab.DATASETS
                                                                           if d.attributed]
    enums = [n["enum"] for n in _walk(schema) if "enum" in n]
    assert list(vocab.ACTIVATIONS) in enums
    assert not [n for n in _walk(schema) if "x-vocab" in n]


def test_an_unknown_selector_is_named():
    with pytest.raises(ValueError, match="attacks.nope"):
        vocab.enum_of("attacks.nope")


def test_attack_code_agrees_with_the_vocabulary():
    from reproflow.attacks.registry import ATTACKS, NEEDS_GENERATOR, AttackName

    assert {a.value for a in AttackName} == set(vocab.attack_names())
    assert set(ATTACKS) == set(AttackName)
    for spec in vocab.ATTACKS:
        cls = ATTACKS[AttackName(spec.name)]
        assert cls.semantic == spec.editor, spec.name
        assert (AttackName(spec.name) in NEEDS_GENERATOR) == spec.generator, spec.name


def test_each_attacks_settings_are_a_section_of_the_generated_suite():
    """An attack's ``settings`` names a subsection of the generated AttackSuite (the schema's ``x-group: suite``
    keys), whose keys its constructor takes; and every subsection of the suite is some attack's."""
    import dataclasses
    import inspect

    from reproflow.attacks.registry import ATTACKS, AttackName
    from reproflow.settings.sections import AttackSuite

    sections = {f.name: f.type for f in dataclasses.fields(AttackSuite) if str(f.type).startswith("Attack")}
    named = {spec.settings for spec in vocab.ATTACKS if spec.settings is not None}
    assert named == set(sections), "attack subsections of AttackSuite that no AttackSpec.settings names, or the reverse"
    types = inspect.get_annotations(AttackSuite, eval_str=True)
    for spec in vocab.ATTACKS:
        if spec.settings is None:
            continue
        params = inspect.signature(ATTACKS[AttackName(spec.name)].__init__).parameters
        if any(p.kind is p.VAR_KEYWORD and name != "base" for name, p in params.items()):
            continue  # it hands its keywords on to the class it extends (recon_pgd: to PGD)
        missing = [f.name for f in dataclasses.fields(types[spec.settings]) if f.name not in params]
        assert not missing, f"{spec.name}: keys of attack.{spec.settings} its constructor lacks: {missing}"


def test_defence_code_agrees_with_the_vocabulary():
    from reproflow.defences.base import DefenceName
    from reproflow.defences.registry import DEFENCES, SETTINGS

    assert [d.value for d in DefenceName] == [d.name for d in vocab.DEFENCES]
    assert set(DEFENCES) == set(DefenceName)
    assert {d.value for d in SETTINGS} == {d.name for d in vocab.DEFENCES if d.settings}
    params = yaml.safe_load((REPO / "params.yaml").read_text())["advtrain"]
    assert all(d.name in params for d in vocab.DEFENCES if d.settings)


def test_datasets_and_activations_agree_with_the_code():
    from reproflow.data.sources import base_name
    from reproflow.meanfield.theory import ACTIVATIONS

    for d in vocab.DATASETS:
        base_name(d.name)  # raises for a name the data code does not know
    assert ACTIVATIONS == vocab.ACTIVATIONS


def test_every_label_the_suite_writes_has_a_colour_and_a_place():
    """The attack figures' order and colours (plots/attack.py) cover every label the evaluation writes: each
    attack in the vocabulary's order (its learned twin is drawn in its colour), the cross-check right after PGD,
    the joint threat's reference and each oracle ablation."""
    from reproflow.attacks import suite
    from reproflow.plots.attack import ATTACK_ORDER, COLORS, _order

    oracle = [a + vocab.ORACLE_SUFFIX for a in vocab.attack_names(oracle_ablation=True)]
    labels = {*vocab.attack_names(), vocab.CROSSCHECK_LABEL, vocab.REFERENCE_LABEL, *oracle}
    assert set(COLORS) == labels and ATTACK_ORDER == list(COLORS)
    assert [a for a in ATTACK_ORDER if a in vocab.attack_names()] == list(vocab.attack_names())
    assert ATTACK_ORDER.index(vocab.CROSSCHECK_LABEL) == ATTACK_ORDER.index("pgd") + 1
    assert all(COLORS[a.name] == a.colour for a in vocab.ATTACKS)
    assert _order(["zzz", *reversed(ATTACK_ORDER)]) == [*ATTACK_ORDER, "zzz"]
    # the suite writes its labels from the same names
    assert (suite.CROSSCHECK_LABEL, suite.REFERENCE_LABEL, suite.ORACLE_SUFFIX) == (
        vocab.CROSSCHECK_LABEL, vocab.REFERENCE_LABEL, vocab.ORACLE_SUFFIX)


def test_train_defence_takes_one_section_per_defence_that_has_one():
    """A defence with a params.yaml section (vocab ``DefenceSpec.settings``) reaches train_defence as the field named
    after it, typed by its generated class (``advtrain.<defence>``): the rule passes it by that name."""
    from reproflow import vocab
    from reproflow.cli.train_defence import Config

    hints = typing.get_type_hints(Config)
    from reproflow.settings import sections

    advtrain = typing.get_type_hints(sections.Advtrain)
    for spec in vocab.DEFENCES:
        if spec.settings:
            assert hints.get(spec.name) == advtrain[spec.name] | None, (spec.name, hints.get(spec.name))
        else:
            assert spec.name not in hints, spec.name
