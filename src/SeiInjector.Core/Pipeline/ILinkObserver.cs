using CatEvening.FFmpegInterop;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>Told by the pipeline when its input or output goes up or down, as it happens.</summary>
/// <remarks>Calls come from the pipeline's thread, except <see cref="Down"/> for an output found gone while the input was
/// down (<c>IdleOutputWatch</c>'s thread), which may come at the same time as an input's call: implementations must be
/// thread-safe.</remarks>
public interface ILinkObserver
{
    /// <summary>The side is open: the input opened with its video stream found, or the output's header written.</summary>
    /// <param name="side">Input or output.</param>
    /// <param name="url">Its URL.</param>
    /// <param name="reopened">True when it had been open before and dropped (a reconnect, not the start).</param>
    void Up(MediaDirection side, string url, bool reopened);

    /// <summary>The side dropped (or an attempt to open it failed); the next attempt comes after <paramref name="retryIn"/>.</summary>
    /// <param name="side">Input or output.</param>
    /// <param name="reason">What failed, in FFmpeg's words where it gave them.</param>
    /// <param name="retryIn">Wait before the next attempt.</param>
    void Down(MediaDirection side, string reason, TimeSpan retryIn);
}
