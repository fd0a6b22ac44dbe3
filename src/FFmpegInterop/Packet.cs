using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// Owns one native <c>AVPacket</c> (allocated by <c>av_packet_alloc</c>, freed by <c>av_packet_free</c>). The packet is
/// reused: each read fills it, and <see cref="Unref"/> drops the payload reference before the next read.
/// </summary>
public sealed class Packet : SafeHandle
{
    /// <summary>The value FFmpeg uses for an absent timestamp (<c>AV_NOPTS_VALUE</c>).</summary>
    public const long NoTimestamp = long.MinValue;

    private const int KeyFlag = 1;

    /// <summary>Allocates an empty packet.</summary>
    /// <exception cref="FFmpegException">FFmpeg cannot be loaded or is out of memory.</exception>
    public Packet()
        : base(0, ownsHandle: true)
    {
        FFmpegLibrary.EnsureLoaded();
        var p = AvCodec.av_packet_alloc();
        if (p == 0) throw new FFmpegException("av_packet_alloc", 0, "out of memory");
        SetHandle(p);
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    internal nint Pointer => handle;

    /// <summary>Presentation timestamp in the stream's time base, or <see cref="NoTimestamp"/>.</summary>
    public unsafe long Pts
    {
        get => *(long*)(handle + StructLayouts.PacketPts);
        set => *(long*)(handle + StructLayouts.PacketPts) = value;
    }

    /// <summary>Decoding timestamp in the stream's time base, or <see cref="NoTimestamp"/>.</summary>
    public unsafe long Dts
    {
        get => *(long*)(handle + StructLayouts.PacketDts);
        set => *(long*)(handle + StructLayouts.PacketDts) = value;
    }

    /// <summary>Duration in the stream's time base, 0 when unknown.</summary>
    public unsafe long Duration => *(long*)(handle + StructLayouts.PacketDuration);

    /// <summary>Index of the stream the packet belongs to.</summary>
    public unsafe int StreamIndex
    {
        get => *(int*)(handle + StructLayouts.PacketStreamIndex);
        set => *(int*)(handle + StructLayouts.PacketStreamIndex) = value;
    }

    /// <summary>True when the demuxer marks the packet as a keyframe (<c>AV_PKT_FLAG_KEY</c>).</summary>
    public unsafe bool IsKeyframe => (*(int*)(handle + StructLayouts.PacketFlags) & KeyFlag) != 0;

    /// <summary>Byte position in the input, -1 when unknown; set to -1 before muxing so the muxer does not trust it.</summary>
    public unsafe long Position
    {
        get => *(long*)(handle + StructLayouts.PacketPosition);
        set => *(long*)(handle + StructLayouts.PacketPosition) = value;
    }

    /// <summary>
    /// The payload. Valid until the packet is unreferenced, refilled or disposed; writable only on a packet made by
    /// <see cref="Allocate"/> (a demuxed packet may share its buffer).
    /// </summary>
    public unsafe Span<byte> Data
    {
        get
        {
            var data = *(byte**)(handle + StructLayouts.PacketData);
            var size = *(int*)(handle + StructLayouts.PacketSize);
            return data == null || size <= 0 ? [] : new Span<byte>(data, size);
        }
    }

    /// <summary>Drops the payload reference and resets the fields; the packet can be filled again.</summary>
    public void Unref() => AvCodec.av_packet_unref(handle);

    /// <summary>
    /// Gives this (unreferenced) packet a fresh, writable payload of <paramref name="size"/> bytes and copies every property
    /// of <paramref name="template"/> but its payload (timestamps, flags, stream index, side data).
    /// </summary>
    /// <exception cref="FFmpegException">Out of memory.</exception>
    public void Allocate(int size, Packet template)
    {
        ArgumentNullException.ThrowIfNull(template);
        Unref();
        AvError.Check(AvCodec.av_new_packet(handle, size), "allocating a packet");
        AvError.Check(AvCodec.av_packet_copy_props(handle, template.handle), "copying packet properties");
    }

    /// <summary>
    /// Moves the payload reference and every property of this packet into the unreferenced <paramref name="destination"/>
    /// (<c>av_packet_move_ref</c>); this packet is left blank, ready for the next read. No copy of the payload.
    /// </summary>
    public void MoveTo(Packet destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        AvCodec.av_packet_move_ref(destination.handle, handle);
    }

    /// <summary>Converts pts, dts and duration from one time base to another.</summary>
    public void RescaleTimestamps(Rational from, Rational to) =>
        AvCodec.av_packet_rescale_ts(handle, from.ToNative(), to.ToNative());

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        var p = handle;
        AvCodec.av_packet_free(ref p);
        return true;
    }
}
