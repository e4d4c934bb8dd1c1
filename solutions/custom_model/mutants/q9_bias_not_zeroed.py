# mutant: init_weights initialises the weight but leaves the bias with its old random values
# cell: def init_weights(module):
# loses: q9
def init_weights(module):
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
