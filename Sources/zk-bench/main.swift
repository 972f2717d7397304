print("zk-bench: not built yet")
