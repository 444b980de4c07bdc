"""`bots lint`: rules that warn about fragile or unsafe bot files, with rule ids, positions and
SARIF output."""
