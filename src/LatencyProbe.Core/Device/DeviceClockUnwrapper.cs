namespace CatEvening.LatencyProbe.Device;

/// <summary>
/// Turns the device's free-running microsecond counter into a monotonic 64-bit time. Boards whose counter is
/// 32 bits wide (Arduino <c>micros()</c>) wrap every 71.6 minutes; a step backwards by more than half of 2^32
/// from a value that fits in 32 bits is taken as such a wrap. Counters wider than 32 bits pass through.
/// </summary>
public sealed class DeviceClockUnwrapper
{
    private const ulong Wrap = 1UL << 32;
    private ulong _last;
    private ulong _epochs;
    private bool _any;

    /// <summary>The unwrapped time of <paramref name="counter"/>, in device microseconds.</summary>
    public long Unwrap(ulong counter)
    {
        if (_any && _last < Wrap && counter < _last && _last - counter > Wrap / 2) _epochs++;
        _last = counter;
        _any = true;
        return (long)((_epochs * Wrap) + counter);
    }

    /// <summary>Forgets the history: the device restarted its clock.</summary>
    public void Reset()
    {
        _last = 0;
        _epochs = 0;
        _any = false;
    }
}
