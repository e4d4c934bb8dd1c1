# mutant: record_grads uses the deprecated register_backward_hook instead of register_full_backward_hook, so grad_input is not the gradient of the module's input
# cell: def record_grads(module, log):
# loses: q7
def record_grads(module, log):
    def hook(module, grad_input, grad_output):
        g_in, g_out = grad_input[0], grad_output[0]
        log.append((None if g_in is None else g_in.detach().clone(),
                    None if g_out is None else g_out.detach().clone()))

    return module.register_backward_hook(hook)


def scale_grad(param, factor):
    return param.register_hook(lambda grad: grad * factor)
