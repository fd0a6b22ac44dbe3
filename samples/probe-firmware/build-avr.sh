#!/usr/bin/env bash
# Builds cat_probe for an Arduino Uno / Nano (ATmega328P, 16 MHz) with Debian's avr-gcc and Arduino core, without
# arduino-cli: apt-get install gcc-avr avr-libc arduino-core-avr. Writes build/cat_probe.hex; flash it with
#   avrdude -p m328p -c arduino -P /dev/ttyACM0 -b 115200 -U flash:w:build/cat_probe.hex
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
core="${ARDUINO_AVR:-/usr/share/arduino/hardware/arduino/avr}"
[ -d "$core/cores/arduino" ] || { echo "Arduino AVR core not found at $core: apt-get install arduino-core-avr (or set ARDUINO_AVR)" >&2; exit 1; }
out="$here/build"
rm -rf "$out" && mkdir -p "$out/core"
flags=(-mmcu=atmega328p -DF_CPU=16000000L -DARDUINO=10807 -DARDUINO_AVR_UNO -DARDUINO_ARCH_AVR -Os
       -ffunction-sections -fdata-sections -I"$core/cores/arduino" -I"$core/variants/standard")
# The core is built the way the Arduino IDE builds it (-fpermissive); Debian's avr-gcc 5.4 float.h hides DECIMAL_DIG
# from C++, which the core's WString.cpp needs, so it gets the compiler's own value. The sketch must compile clean
# with every warning.
for src in "$core"/cores/arduino/*.c; do avr-gcc "${flags[@]}" -std=gnu11 -c "$src" -o "$out/core/$(basename "$src").o"; done
for src in "$core"/cores/arduino/*.cpp; do avr-g++ "${flags[@]}" -std=gnu++11 -DDECIMAL_DIG=__DECIMAL_DIG__ -fpermissive -fno-exceptions -fno-threadsafe-statics -c "$src" -o "$out/core/$(basename "$src").o"; done
avr-g++ "${flags[@]}" -std=gnu++11 -fno-exceptions -fno-threadsafe-statics -Wall -Wextra -Werror -x c++ -c "$here/cat_probe/cat_probe.ino" -o "$out/cat_probe.o"
avr-gcc -mmcu=atmega328p -Os -Wl,--gc-sections -o "$out/cat_probe.elf" "$out/cat_probe.o" "$out"/core/*.o -lm
avr-objcopy -O ihex -R .eeprom "$out/cat_probe.elf" "$out/cat_probe.hex"
avr-size "$out/cat_probe.elf"
