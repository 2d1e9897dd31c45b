# daemon: memtyped itself (manager, methods, main)
