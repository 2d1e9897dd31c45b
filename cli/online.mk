# cli: the online verbs and the libvirt hook
