using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using CatEvening.ClockSync;

namespace CatEvening.LatencyProbe.Cli;

/// <summary>Process exit codes of <c>latency-probe</c>; README.md, section "latency-probe", lists them.</summary>
internal static class ExitCodes
{
    /// <summary>The run measured at least one sample (or a clock command succeeded).</summary>
    public const int Ok = 0;

    /// <summary>The run ended without a sample.</summary>
    public const int NoSamples = 1;

    /// <summary>The command line is wrong: unknown option, missing or malformed value (an address that is not HOST:PORT).</summary>
    public const int Usage = 2;

    /// <summary>What the command line names cannot be used: a key file, the input (URL, file), a host that does not
    /// resolve, a port that cannot be bound, a clock service that does not answer.</summary>
    public const int Unreadable = 3;
}

/// <summary>
/// Every <c>HOST:PORT</c> of the command line goes through here (<see cref="HostPort"/>, the parser
/// <c>sei-inject --clock</c> uses too): malformed text is a parse error naming the option (exit 2), a host that does
/// not resolve an <see cref="AddressException"/> naming it (exit 3).
/// </summary>
internal static class Addresses
{
    /// <summary>A validator for an option holding <c>HOST:PORT</c>.</summary>
    public static Action<OptionResult> Validator(string option, bool allowPortZero = false) => result =>
    {
        var text = result.GetValueOrDefault<string?>();
        if (text != null && !HostPort.TryParse(text, out _, out var error, allowPortZero)) result.AddError($"{option} {error}");
    };

    /// <summary>A validator for an argument holding <c>HOST:PORT</c>; <paramref name="name"/> says where it stands.</summary>
    public static Action<ArgumentResult> ArgumentValidator(string name) => result =>
    {
        var text = result.GetValueOrDefault<string?>();
        if (text != null && !HostPort.TryParse(text, out _, out var error)) result.AddError($"{name} {error}");
    };

    /// <summary>Parses and resolves <paramref name="text"/> given as <paramref name="option"/>.</summary>
    /// <exception cref="AddressException">Malformed, or the host does not resolve; the message names the option.</exception>
    public static IPEndPoint Resolve(string option, string text, bool allowPortZero = false)
    {
        if (!HostPort.TryParse(text, out var address, out var error, allowPortZero))
            throw new AddressException($"{option} {error}", malformed: true);
        try
        {
            return address.Resolve();
        }
        catch (SocketException e)
        {
            throw new AddressException($"{option} {text}: host '{address.Host}' does not resolve ({e.Message})", malformed: false, e);
        }
    }
}
