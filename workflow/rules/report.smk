# report phase (not built yet)


rule report_all:
    input:
        [],
