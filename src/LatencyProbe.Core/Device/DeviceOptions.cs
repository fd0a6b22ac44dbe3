namespace CatEvening.LatencyProbe.Device;

/// <summary>Settings of the photodiode probe instrument.</summary>
public sealed record DeviceOptions
{
    /// <summary>Serial port path (<c>/dev/ttyACM0</c>, <c>COM3</c>).</summary>
    public required string PortName { get; init; }

    /// <summary>Baud rate; USB CDC boards ignore it, UART bridges need it to match the firmware.</summary>
    public int BaudRate { get; init; } = 115200;

    /// <summary>Shortest delay a screen edge may have after its flash.</summary>
    public TimeSpan MinDelay { get; init; } = TimeSpan.Zero;

    /// <summary>Longest delay a screen edge may have after its flash; flashes must be further apart than this.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How far a delay may stray from the recent median before it is held back as a possible outlier; three
    /// agreeing delays beyond it in a row are accepted as a real change.
    /// </summary>
    public TimeSpan JumpTolerance { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Resolution of the device's microsecond counter (4 µs on a 16 MHz AVR, 1 µs on an RP2040).</summary>
    public double CounterResolutionMicroseconds { get; init; } = 4;

    /// <summary>Worst-case error of the device's oscillator in parts per million.</summary>
    public double ClockTolerancePpm { get; init; } = 100;

    /// <summary>How often to try to open the port again after it went away.</summary>
    public TimeSpan ReconnectInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Uncertainty of one delay: each of the two edge times is quantised to the counter resolution, and the
    /// device's oscillator may run fast or slow by the tolerance over the delay.
    /// </summary>
    public double UncertaintyMilliseconds(double delayMilliseconds) =>
        ((2 * CounterResolutionMicroseconds) / 1000.0) + (Math.Abs(delayMilliseconds) * ClockTolerancePpm / 1e6);
}
