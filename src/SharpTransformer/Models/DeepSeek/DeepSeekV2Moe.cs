using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.DeepSeek;

// TEMPORARY until the mixture-of-experts module of branch moe is merged.
internal static class DeepSeekV2Moe
{
    public static ILayer Create(DeepSeekV2Config config, Generator g) =>
        throw new NotSupportedException("DeepSeekV2: mixture-of-experts layers are not available yet.");
}
