"""reproflow: reproductions of SPA (Gao et al., IJCNN 2023) and mean-field dropout theory
(Huang et al., ECAI 2020) as one Snakemake + DVC workflow.

The library never reads params.yaml and never composes ``results/...`` paths: the CLIs in
:mod:`reproflow.cli` receive every value and path as an argument from the workflow rules.
"""

__version__ = "0.1.0"
