# systemd units, sysusers, tmpfiles, the libvirt hook script
