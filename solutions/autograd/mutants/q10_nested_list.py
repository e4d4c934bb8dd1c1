# mutant: calls .tolist() on the (1, K) weight without flattening, giving a list holding one list
# cell: def last_layer_coefficients(model):
# loses: q10
def last_layer_coefficients(model):
    state = model.state_dict()
    last = len(model) - 1
    return {"weight": state[f"{last}.weight"].tolist(),
            "bias": state[f"{last}.bias"].item()}
