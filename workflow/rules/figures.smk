# figures: every figure of the scale, re-rendered from the phases' tidy tables alone (issue 15). Each
# plotting rule reads tables (and, for image grids, the arrays their phase wrote: data's test.pt,
# pretrain's manipulator_sweep.npz, attack's examples.npz) plus the figure style FIG_STYLE; none reads a
# model or runs training or an attack. So after a style or plotting-code edit
#   snakemake figures_all --configfile config/<scale>.yaml
# re-renders the figures (a few seconds per plotting job) and nothing upstream; `touch` the style file to re-render them all.
# Outputs: the PNG + PDF pairs the phases' <phase>_all rules list (no file of its own).

FIGURES = sorted(
    {
        str(p)
        for p in (
            *rules.data_all.input,
            *rules.pretrain_all.input,
            *rules.attack_all.input,
            *rules.advtrain_all.input,
            *rules.meanfield_all.input,
            *rules.depth_sweep_all.input,
        )
        if str(p).endswith((".png", ".pdf"))
    }
)


rule figures_all:
    input:
        FIGURES,
