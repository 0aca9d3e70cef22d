# attack phase (not built yet)


rule attack_all:
    input:
        [],
