"""SPA models: classifiers, attribute manipulators (learned MSP and rotation oracle), noise generator.

Interfaces are fixed by docs/spa_interfaces.md (the contract between pretrain, attack and advtrain).
Every checkpoint is a dict ``{"kind", "kwargs", "state_dict", "meta"}`` so a loader rebuilds the module
without params.yaml.
"""

from reproflow.models.classifiers import ARCHS, build_classifier, load_classifier, save_classifier
from reproflow.models.generator import NoiseGenerator, generate_noise, load_generator, save_generator
from reproflow.models.manipulator import (
    AttributeManipulator,
    MSPManipulator,
    RotationOracle,
    load_manipulator,
    save_manipulator,
)

__all__ = [
    "ARCHS",
    "AttributeManipulator",
    "MSPManipulator",
    "NoiseGenerator",
    "RotationOracle",
    "build_classifier",
    "generate_noise",
    "load_classifier",
    "load_generator",
    "load_manipulator",
    "save_classifier",
    "save_generator",
    "save_manipulator",
]
