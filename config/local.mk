# config: sources added by its owner
