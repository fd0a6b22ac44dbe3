namespace CatEvening.FFmpegInterop.Rtmp;

/// <summary>
/// The NetConnection and NetStream command exchange (RTMP specification 1.0, section 7.2) a client needs: connect,
/// createStream, and the status a server answers with. Shared by <see cref="RtmpPlaySession"/> and
/// <see cref="RtmpPublishSession"/>; the commands and their arguments are those FFmpeg's <c>rtmpproto.c</c> sends.
/// </summary>
internal static class RtmpCommands
{
    /// <summary>What a command message said, read far enough for a client.</summary>
    internal readonly record struct Answer(string Name, double Transaction, string? Level, string? Code, string? Description, double? Number);

    /// <summary>Reads a command's name, transaction id, the status object's level/code/description and a number result.</summary>
    public static Answer Read(ReadOnlySpan<byte> payload)
    {
        var reader = new Amf0Reader(payload);
        if (!reader.TryReadString(out var name)) return new Answer("", 0, null, null, null, null);
        reader.TryReadNumber(out var transaction);
        string? level = null, code = null, description = null;
        double? number = null;
        // The command object (often null), then the information object or the result.
        for (var i = 0; i < 2 && reader.HasMore; i++)
        {
            if (reader.TryReadNumber(out var value)) { number = value; continue; }
            var isObject = payload[reader.Position] is 0x03 or 0x08;
            if (!isObject) { if (!reader.TrySkip()) break; continue; }
            reader.TryReadObject((key, v) =>
            {
                if (v is not string text) return;
                if (key == "level") level = text;
                else if (key == "code") code = text;
                else if (key == "description") description = text;
            });
        }
        return new Answer(name, transaction, level, code, description, number);
    }

    /// <summary>Sends connect (transaction 1) and waits for its <c>_result</c>.</summary>
    /// <exception cref="RtmpException">The server answered <c>_error</c>: <see cref="AvError.InputOutput"/>, retried as
    /// FFmpeg's protocol retries it (its <c>AVERROR_UNKNOWN</c>): a server restarting its application or at its
    /// connection limit refuses for a while, and a live run keeps trying, saying why.</exception>
    public static void Connect(RtmpConnection connection, RtmpUrl url, bool publish)
    {
        var amf = connection.Amf.Clear().String("connect").Number(1).BeginObject()
            .Property("app").String(url.App);
        if (publish) amf.Property("type").String("nonprivate");
        amf.Property("flashVer").String(publish ? "FMLE/3.0 (compatible; CatEvening)" : "LNX 9,0,124,2")
            .Property("tcUrl").String(url.TcUrl);
        if (!publish)
        {
            amf.Property("fpad").Boolean(false).Property("capabilities").Number(15)
                .Property("audioCodecs").Number(4071).Property("videoCodecs").Number(252).Property("videoFunction").Number(1);
        }
        amf.EndObject();
        connection.SendCommand();
        Answer answer;
        try
        {
            answer = WaitFor(connection, 1, "connect", null);
        }
        catch (RtmpException e) when (e.ErrorCode == AvError.InputOutput && e.InnerException is null)
        {
            // nginx-rtmp answers an application it does not have by closing the connection, without a word.
            throw new RtmpException($"{e.Message} in answer to connect (application '{url.App}': does the server have it?)", e.ErrorCode, e);
        }
        if (answer.Name == "_error")
            throw new RtmpException($"the server refused the connection: {Describe(answer)}", AvError.InputOutput);
    }

    /// <summary>Sends createStream and returns the message stream id the server gives.</summary>
    public static uint CreateStream(RtmpConnection connection, double transaction)
    {
        connection.Amf.Clear().String("createStream").Number(transaction).Null();
        connection.SendCommand();
        var answer = WaitFor(connection, transaction, "createStream", null);
        if (answer.Name == "_error" || answer.Number is not { } id)
            throw new RtmpException($"createStream failed: {Describe(answer)}", AvError.InputOutput);
        return (uint)id;
    }

    /// <summary>
    /// Reads messages until the answer (<c>_result</c>/<c>_error</c>) to <paramref name="transaction"/> arrives;
    /// any other message goes to <paramref name="other"/> (media that comes early), commands not awaited are dropped.
    /// </summary>
    public static Answer WaitFor(RtmpConnection connection, double transaction, string what, RtmpMessageSink? other)
    {
        while (true)
        {
            var message = connection.Receive();
            if (message.Type == RtmpMessageType.CommandAmf0)
            {
                var answer = Read(message.Payload);
                if (answer.Name is "_result" or "_error" && answer.Transaction == transaction) return answer;
                if (answer.Name == "onStatus" && answer.Level == "error")
                    throw new RtmpException($"{what}: {Describe(answer)}", AvError.InputOutput);
                continue;
            }
            other?.Invoke(message);
        }
    }

    /// <summary>Text for a server's status: its description, else its code.</summary>
    public static string Describe(Answer answer) =>
        answer.Description is { Length: > 0 } d ? (answer.Code is { } c ? $"{c} ({d})" : d)
        : answer.Code ?? $"'{answer.Name}' without a status";
}

/// <summary>Receives a message met while waiting for a command's answer.</summary>
internal delegate void RtmpMessageSink(RtmpMessage message);
