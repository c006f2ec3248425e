from dispatchctl.cli.main import entrypoint

entrypoint()
