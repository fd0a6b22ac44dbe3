using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Outcome of <see cref="AccessUnitSplicer.Splice"/>. The destination always holds a usable access unit of
    /// <see cref="BytesWritten"/> bytes: the spliced one, or, when <see cref="IsSpliced"/> is false, the original
    /// bytes untouched.
    /// </summary>
    public readonly struct SpliceResult : IEquatable<SpliceResult>
    {
        internal SpliceResult(int bytesWritten, int insertionOffset, BitstreamError error, int errorOffset)
        {
            BytesWritten = bytesWritten;
            InsertionOffset = insertionOffset;
            Error = error;
            ErrorOffset = errorOffset;
        }

        /// <summary>True when the SEI NAL unit was inserted.</summary>
        public bool IsSpliced => Error == BitstreamError.None;

        /// <summary>Bytes written to the destination.</summary>
        public int BytesWritten { get; }

        /// <summary>Offset in the original access unit where the SEI NAL unit was inserted; -1 when not spliced.</summary>
        public int InsertionOffset { get; }

        /// <summary>Why the access unit was handed back untouched; <see cref="BitstreamError.None"/> when spliced.</summary>
        public BitstreamError Error { get; }

        /// <summary>Offset in the access unit of the fault (for <see cref="BitstreamError.NoVclNalUnit"/>, the bytes checked).</summary>
        public int ErrorOffset { get; }

        /// <summary>"spliced at N" or the reason naming the offset.</summary>
        public override string ToString() => IsSpliced
            ? $"spliced at byte {InsertionOffset}"
            : "access unit left untouched: " + BitstreamException.Describe(Error, ErrorOffset);

        /// <inheritdoc />
        public bool Equals(SpliceResult other) =>
            BytesWritten == other.BytesWritten && InsertionOffset == other.InsertionOffset &&
            Error == other.Error && ErrorOffset == other.ErrorOffset;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is SpliceResult other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => HashCode.Combine(BytesWritten, InsertionOffset, Error, ErrorOffset);

        /// <summary>Equality of two results.</summary>
        public static bool operator ==(SpliceResult left, SpliceResult right) => left.Equals(right);

        /// <summary>Inequality of two results.</summary>
        public static bool operator !=(SpliceResult left, SpliceResult right) => !left.Equals(right);
    }
}
