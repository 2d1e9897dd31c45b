# daemon: the libvirt monitor thread (libmtlibvirt.a)
