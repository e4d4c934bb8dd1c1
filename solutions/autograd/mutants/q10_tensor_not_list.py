# mutant: returns the weight as a tensor instead of a list of floats
# cell: def last_layer_coefficients(model):
# loses: q10
def last_layer_coefficients(model):
    state = model.state_dict()
    last = len(model) - 1
    return {"weight": state[f"{last}.weight"].flatten(), "bias": state[f"{last}.bias"].item()}
