# cli: sources added by its owner
