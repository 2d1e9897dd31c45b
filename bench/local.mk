# bench: sources added by its owner
