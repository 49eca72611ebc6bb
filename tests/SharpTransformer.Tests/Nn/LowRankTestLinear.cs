using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Nn;

/// <summary>A LoRA-shaped wrapper for the tests: base(x) + (x Aᵀ) Bᵀ, the base layer kept as the child <c>base_layer</c>.</summary>
internal sealed class LowRankTestLinear : Module, ILinear
{
    public LowRankTestLinear(ILinear baseLayer, int rank, Generator g)
    {
        RegisterModule("base_layer", baseLayer);
        A = RegisterParameter("lora_A", Tensor.RandN([rank, baseLayer.InFeatures], g, 0f, 0.5f));
        B = RegisterParameter("lora_B", Tensor.RandN([baseLayer.OutFeatures, rank], g, 0f, 0.5f));
    }

    public ILinear Base => Child<ILinear>("base_layer");
    public Tensor A { get; }
    public Tensor B { get; }
    public int InFeatures => Base.InFeatures;
    public int OutFeatures => Base.OutFeatures;
    public Tensor? Weight => Base.Weight;
    public Tensor? Bias => Base.Bias;

    public Tensor Forward(Tensor x) => Base.Forward(x).Add(Tensor.Linear(Tensor.Linear(x, A), B));   // (..., out)
}
