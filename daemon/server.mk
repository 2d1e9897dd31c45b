# daemon: the varlink server and client (adds to libmtvarlink.a)
