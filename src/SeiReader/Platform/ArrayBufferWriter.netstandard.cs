#if NETSTANDARD2_0
namespace System.Buffers
{
    /// <summary>
    /// The part of .NET's <c>ArrayBufferWriter&lt;T&gt;</c> (netstandard2.1 and later) this library uses: a growable
    /// array that MessagePack writes into.
    /// </summary>
    internal sealed class ArrayBufferWriter<T> : IBufferWriter<T>
    {
        private T[] _buffer;
        private int _index;

        public ArrayBufferWriter(int initialCapacity)
        {
            if (initialCapacity <= 0) throw new ArgumentOutOfRangeException(nameof(initialCapacity));
            _buffer = new T[initialCapacity];
        }

        public int WrittenCount => _index;

        public ReadOnlySpan<T> WrittenSpan => _buffer.AsSpan(0, _index);

        public ReadOnlyMemory<T> WrittenMemory => _buffer.AsMemory(0, _index);

        public void Advance(int count)
        {
            if (count < 0 || _index > _buffer.Length - count) throw new ArgumentOutOfRangeException(nameof(count));
            _index += count;
        }

        public Memory<T> GetMemory(int sizeHint = 0)
        {
            Grow(sizeHint);
            return _buffer.AsMemory(_index);
        }

        public Span<T> GetSpan(int sizeHint = 0)
        {
            Grow(sizeHint);
            return _buffer.AsSpan(_index);
        }

        public void Write(ReadOnlySpan<T> value)
        {
            value.CopyTo(GetSpan(value.Length));
            Advance(value.Length);
        }

        private void Grow(int sizeHint)
        {
            if (sizeHint < 0) throw new ArgumentOutOfRangeException(nameof(sizeHint));
            if (sizeHint == 0) sizeHint = 1;
            if (sizeHint <= _buffer.Length - _index) return;
            var needed = checked(_index + sizeHint);
            var size = Math.Max(needed, _buffer.Length * 2);
            Array.Resize(ref _buffer, size);
        }
    }
}
#endif
