"""What tests of every folder share: the names and hand-built objects (``objects``), one way
to run the CLI (``cli``), the kubeconfig writer and the cluster fixtures."""
