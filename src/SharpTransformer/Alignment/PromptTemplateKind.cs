namespace SharpTransformer.Alignment;

/// <summary>The built-in prompt templates (<see cref="PromptTemplate.For"/>).</summary>
public enum PromptTemplateKind
{
    /// <summary>Alpaca's template, as rasbt's chapter 7 <c>format_input</c> (<see cref="AlpacaTemplate"/>).</summary>
    Alpaca,
    /// <summary>A chat template with roles (<see cref="ChatPromptTemplate"/>): the tokenizer's, when recognised, else ChatML.</summary>
    Chat,
}
