using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace CatEvening.SeiInjector.Cli;

/// <summary>
/// Integer options with a range. The value is parsed and checked in one custom parser, so text that is no number or
/// does not fit an <see cref="int"/> (<c>abc</c>, <c>99999999999</c>) is a parse error naming the option and its range
/// (exit 2), like a value out of range. A validator reading the value instead threw InvalidOperationException for such
/// text, out of <c>Parse</c>, and the process died unhandled.
/// </summary>
internal static class WholeNumberOption
{
    /// <summary>An option taking a whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<int> Create(string name, int min, int max, int defaultValue, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, name, min, max),
    };

    private static int Parse(ArgumentResult result, string name, int min, int max)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} '{text}' is not a whole number from {min} to {max}"));
        return min;
    }
}
