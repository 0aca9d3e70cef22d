# depth_sweep phase (not built yet)


rule depth_sweep_all:
    input:
        [],
