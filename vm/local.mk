# vm: sources added by its owner
