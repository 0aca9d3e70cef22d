# pretrain phase (not built yet)


rule pretrain_all:
    input:
        [],
