# mutant: the pre-hook returns only the scaled first input, so a module with two inputs loses its second one
# cell: def add_input_scale(module, factor):
# loses: q6
def add_input_scale(module, factor):
    def hook(module, args):
        return args[0] * factor

    return module.register_forward_pre_hook(hook)


def add_output_clamp(module, low, high):
    def hook(module, args, output):
        return output.clamp(low, high)

    return module.register_forward_hook(hook)
