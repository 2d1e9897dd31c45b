# end-to-end tests with real libvirtd and QEMU (make check-e2e)
