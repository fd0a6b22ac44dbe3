using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>What an access unit holds: counts of its kinds of NAL units and whether it is a random access point.</summary>
    public readonly struct AccessUnitInfo : IEquatable<AccessUnitInfo>
    {
        private AccessUnitInfo(int nalUnitCount, int vclCount, int seiCount, bool hasAud, bool hasParameterSets, bool isIdr, bool isIrap, bool hasEnd, NalHeader firstSlice)
        {
            NalUnitCount = nalUnitCount;
            VclCount = vclCount;
            SeiCount = seiCount;
            HasAccessUnitDelimiter = hasAud;
            HasParameterSets = hasParameterSets;
            IsIdr = isIdr;
            IsIrap = isIrap;
            HasEndOfSequence = hasEnd;
            FirstSlice = firstSlice;
        }

        /// <summary>Number of NAL units.</summary>
        public int NalUnitCount { get; }

        /// <summary>Number of coded slice (VCL) NAL units.</summary>
        public int VclCount { get; }

        /// <summary>Number of SEI NAL units (prefix and suffix).</summary>
        public int SeiCount { get; }

        /// <summary>True when an access unit delimiter is present.</summary>
        public bool HasAccessUnitDelimiter { get; }

        /// <summary>True when a VPS, SPS or PPS is present in band.</summary>
        public bool HasParameterSets { get; }

        /// <summary>True when its first coded slice is an IDR slice (H.264 type 5; H.265 types 19, 20).</summary>
        public bool IsIdr { get; }

        /// <summary>True when its first coded slice is a random access point: H.264 IDR, H.265 IRAP (BLA, IDR, CRA).</summary>
        public bool IsIrap { get; }

        /// <summary>A keyframe, where a decoder may start: the same as <see cref="IsIrap"/>.</summary>
        public bool IsKeyframe => IsIrap;

        /// <summary>True when an end of sequence or end of stream NAL unit is present.</summary>
        public bool HasEndOfSequence { get; }

        /// <summary>Header of the first coded slice (its TemporalId is the access unit's); default when there is none.</summary>
        public NalHeader FirstSlice { get; }

        /// <summary>Walks every NAL unit of <paramref name="accessUnit"/> and sums up what it holds. Never throws.</summary>
        /// <returns><see cref="ReadStatus.Success"/> or <see cref="ReadStatus.Malformed"/> with <paramref name="error"/> at <paramref name="errorOffset"/>.</returns>
        public static ReadStatus TryRead(ReadOnlySpan<byte> accessUnit, VideoCodec codec, NalFraming framing,
            out AccessUnitInfo info, out BitstreamError error, out int errorOffset)
        {
            var reader = new NalUnitReader(accessUnit, codec, framing);
            int count = 0, vcl = 0, sei = 0;
            bool aud = false, ps = false, end = false;
            NalHeader first = default;
            ReadStatus status;
            while ((status = reader.Read(out NalUnit nal)) == ReadStatus.Success)
            {
                NalHeader h = nal.Header;
                count++;
                if (h.IsVcl && vcl++ == 0) first = h;
                if (h.IsSei) sei++;
                aud |= h.IsAccessUnitDelimiter;
                ps |= h.IsParameterSet;
                end |= h.IsEndOfSequence || h.IsEndOfStream;
            }
            if (status == ReadStatus.Malformed)
            {
                info = default;
                error = reader.Error;
                errorOffset = reader.ErrorOffset;
                return status;
            }
            info = new AccessUnitInfo(count, vcl, sei, aud, ps, vcl > 0 && first.IsIdr, vcl > 0 && first.IsIrap, end, first);
            error = BitstreamError.None;
            errorOffset = 0;
            return ReadStatus.Success;
        }

        /// <summary>Sums up <paramref name="accessUnit"/>.</summary>
        /// <exception cref="BitstreamException">The access unit is malformed; the exception names the offset.</exception>
        public static AccessUnitInfo Read(ReadOnlySpan<byte> accessUnit, VideoCodec codec, NalFraming framing)
        {
            if (TryRead(accessUnit, codec, framing, out AccessUnitInfo info, out BitstreamError error, out int offset) != ReadStatus.Success)
                ThrowHelper.ThrowBitstream(error, offset);
            return info;
        }

        /// <inheritdoc />
        public bool Equals(AccessUnitInfo other) =>
            NalUnitCount == other.NalUnitCount && VclCount == other.VclCount && SeiCount == other.SeiCount &&
            HasAccessUnitDelimiter == other.HasAccessUnitDelimiter && HasParameterSets == other.HasParameterSets &&
            IsIdr == other.IsIdr && IsIrap == other.IsIrap && HasEndOfSequence == other.HasEndOfSequence && FirstSlice == other.FirstSlice;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is AccessUnitInfo other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => HashCode.Combine(NalUnitCount, VclCount, SeiCount, IsIrap, FirstSlice);

        /// <summary>Equality of two summaries.</summary>
        public static bool operator ==(AccessUnitInfo left, AccessUnitInfo right) => left.Equals(right);

        /// <summary>Inequality of two summaries.</summary>
        public static bool operator !=(AccessUnitInfo left, AccessUnitInfo right) => !left.Equals(right);
    }
}
