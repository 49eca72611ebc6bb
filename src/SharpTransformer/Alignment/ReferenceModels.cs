using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>The frozen reference of preference and policy training: a copy of the policy as it is now.</summary>
public static class ReferenceModels
{
    /// <summary>
    /// A copy of <paramref name="model"/> (GPT-2 or Llama) with the same weights on the same backend, frozen and in evaluation
    /// mode, as TRL's <c>create_reference_model</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">Another model type (or one with wrapped layers, such as LoRA): build the reference yourself and pass it.</exception>
    public static CausalLanguageModel FrozenCopy(CausalLanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        CausalLanguageModel copy = model switch
        {
            Gpt2 g => new Gpt2(g.Config),
            Llama l => new Llama(l.Config),
            _ => throw new NotSupportedException($"ReferenceModels.FrozenCopy: cannot copy a {model.GetType().Name}; build the reference model yourself (e.g. load the same checkpoint again) and pass it."),
        };
        var state = model.StateDict();
        if (!state.Keys.ToHashSet().SetEquals(copy.StateDict().Keys))
            throw new NotSupportedException($"ReferenceModels.FrozenCopy: the {model.GetType().Name} has parameters its configuration does not make (wrapped layers such as LoRA?); build the reference model yourself and pass it.");
        using (TensorScope.Suspend())
        {
            if (model.Backend is { } backend) copy.To(backend);
            copy.LoadStateDict(state);
        }
        copy.Freeze();
        copy.Eval();
        return copy;
    }
}
