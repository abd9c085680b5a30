# DVC stage `data`: the four verified MNIST files and the P1/P2 split.


rule mnist:
    """Copy (MNIST_DIR or data.mnist_dir) or download the MNIST files; verify MD5 and SHA-256."""
    output:
        RAW_FILES,
    log:
        "logs/mnist.log",
    threads: 1
    resources:
        mem_mb=512,
        runtime=30,
    params:
        mnist_dir=PROJECT_PATHS["data.mnist_dir"],
    script:
        "../scripts/data/mnist.py"


rule split:
    """Seeded stratified split of the 60000 training images into disjoint halves P1 and P2."""
    input:
        train_labels="data/raw/train-labels-idx1-ubyte.gz",
    output:
        SPLIT,
    log:
        "logs/split.log",
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    params:
        seed=config["data"]["split_seed"],
    script:
        "../scripts/data/split.py"


rule all_data:
    input:
        RAW_FILES,
        SPLIT,
