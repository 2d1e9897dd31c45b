# inventory: sources added by its owner
