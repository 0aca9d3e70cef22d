# meanfield phase (not built yet)


rule meanfield_all:
    input:
        [],
