# mutant: init_weights assigns a new tensor to weight.data and bias.data instead of filling the existing tensors in place
# cell: def init_weights(module):
# loses: q9
def init_weights(module):
    if isinstance(module, nn.Linear):
        module.weight.data = nn.init.xavier_uniform_(torch.empty(module.out_features, module.in_features))
        if module.bias is not None:
            module.bias.data = torch.zeros(module.out_features)
