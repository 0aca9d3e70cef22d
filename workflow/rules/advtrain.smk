# advtrain phase (not built yet)


rule advtrain_all:
    input:
        [],
