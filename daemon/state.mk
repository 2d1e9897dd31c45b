# daemon: state file, applier, logging, hot-plug (libmtdaemon.a)
