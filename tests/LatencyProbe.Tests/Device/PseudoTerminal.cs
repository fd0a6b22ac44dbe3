using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace CatEvening.LatencyProbe.Tests.Device;

/// <summary>
/// A pseudo-terminal pair standing in for the probe's USB serial port: the test writes the device's lines to
/// the master side, the instrument opens the slave path as a serial port. Disposing the master is "unplugging".
/// </summary>
internal sealed partial class PseudoTerminal : IDisposable
{
    private readonly SafeFileHandle _master;
    private readonly SafeFileHandle _slave;
    private readonly FileStream _writer;

    public PseudoTerminal()
    {
        var name = new byte[256];
        if (OpenPty(out var master, out var slave, name, IntPtr.Zero, IntPtr.Zero) != 0)
            throw new InvalidOperationException($"openpty failed: errno {Marshal.GetLastPInvokeError()}");
        _master = new SafeFileHandle(master, ownsHandle: true);
        _slave = new SafeFileHandle(slave, ownsHandle: true);
        SlavePath = Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0));
        MakeRaw(slave);
        _writer = new FileStream(_master, FileAccess.ReadWrite, 1);
    }

    /// <summary>Path of the slave side, e.g. <c>/dev/pts/3</c>.</summary>
    public string SlavePath { get; }

    /// <summary>Sends one line (a <c>\r\n</c> terminator is added, as Arduino's <c>println</c> does).</summary>
    public void WriteLine(string line)
    {
        _writer.Write(Encoding.ASCII.GetBytes(line + "\r\n"));
        _writer.Flush();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _slave.Dispose();
        _master.Dispose();
    }

    private static void MakeRaw(int fd)
    {
        // struct termios is 60 bytes on x86-64 and arm64 glibc; a larger buffer costs nothing.
        var termios = new byte[128];
        if (TcGetAttr(fd, termios) != 0 || (CfMakeRaw(termios) is var _ && TcSetAttr(fd, 0, termios) != 0))
            throw new InvalidOperationException($"tcsetattr failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc.so.6", EntryPoint = "openpty", SetLastError = true)]
    private static partial int OpenPty(out int master, out int slave, byte[] name, IntPtr termios, IntPtr winsize);

    [LibraryImport("libc.so.6", EntryPoint = "tcgetattr", SetLastError = true)]
    private static partial int TcGetAttr(int fd, byte[] termios);

    [LibraryImport("libc.so.6", EntryPoint = "tcsetattr", SetLastError = true)]
    private static partial int TcSetAttr(int fd, int optionalActions, byte[] termios);

    [LibraryImport("libc.so.6", EntryPoint = "cfmakeraw")]
    private static partial int CfMakeRaw(byte[] termios);
}
