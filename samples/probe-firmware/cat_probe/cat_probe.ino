// CatEvening photodiode probe: reference firmware for docs/probe-protocol.md.
//
// Boards: Arduino Uno / Nano (ATmega328P, sensors on pins 2 and 3) and Raspberry Pi Pico
// (Arduino-Pico core by Earle Philhower, any GPIO; pins 2 and 3 by default).
// Sensors: a light-to-voltage sensor (TSL257) or a photodiode (BPW34) with a comparator (LM393, open collector
// with a 10k pull-up), giving a rising edge when the light comes on.
//   channel 0: the studio flash (the lamp the camera sees)
//   channel 1: the viewer's screen, where the flash shows up
// Optional: an LED on FLASH_PIN driven as the studio flash, FLASH_PERIOD_MS apart; put the channel 0 sensor on it.
//
// Output, 115200 baud: "H <name> <version>" once, then "E <channel> <micros>" per rising edge.

#include <Arduino.h>

#if defined(ARDUINO_ARCH_RP2040)
static const char *const BOARD_NAME = "cat-probe-rp2040";
#else
static const char *const BOARD_NAME = "cat-probe-avr";
#endif
static const char *const FIRMWARE_VERSION = "1.0.0";

static const uint8_t SENSOR_PIN[2] = {2, 3};
// Ignore a channel this long after each reported edge: absorbs comparator chatter and backlight PWM flicker.
static const unsigned long HOLDOFF_US = 100000UL;

// Set FLASH_PIN to an output pin to let the probe drive the studio flash itself; 0xFF disables it.
static const uint8_t FLASH_PIN = 0xFF;
static const unsigned long FLASH_PERIOD_MS = 2000UL;
static const unsigned long FLASH_ON_MS = 50UL;

// Edges travel from the interrupt handlers to loop() through one queue, so lines leave in time order.
static const uint8_t QUEUE_SIZE = 32;  // power of two
struct Edge {
  uint8_t channel;
  unsigned long micros;
};
static volatile Edge queue[QUEUE_SIZE];
static volatile uint8_t head = 0;  // written by the interrupt handlers
static uint8_t tail = 0;           // written by loop()
static volatile uint16_t dropped = 0;
static volatile unsigned long lastEdge[2] = {0, 0};
static volatile bool seen[2] = {false, false};

static void record(uint8_t channel) {
  const unsigned long now = micros();
  // Unsigned subtraction stays right across the 32-bit wrap of micros().
  if (seen[channel] && now - lastEdge[channel] < HOLDOFF_US) return;
  seen[channel] = true;
  lastEdge[channel] = now;
  const uint8_t next = (head + 1) & (QUEUE_SIZE - 1);
  if (next == tail) {
    dropped++;
    return;
  }
  queue[head].channel = channel;
  queue[head].micros = now;
  head = next;
}

static void onFlash() { record(0); }
static void onScreen() { record(1); }

void setup() {
  Serial.begin(115200);
#if defined(ARDUINO_ARCH_RP2040)
  // Native USB: wait (at most 3 s) for the host to open the port, so that the hello line is not lost.
  const unsigned long start = millis();
  while (!Serial && millis() - start < 3000UL) {
  }
#endif
  pinMode(SENSOR_PIN[0], INPUT);
  pinMode(SENSOR_PIN[1], INPUT);
  if (FLASH_PIN != 0xFF) pinMode(FLASH_PIN, OUTPUT);
  Serial.print("H ");
  Serial.print(BOARD_NAME);
  Serial.print(' ');
  Serial.println(FIRMWARE_VERSION);
  Serial.print("# holdoff ");
  Serial.print(HOLDOFF_US);
  Serial.println(" us");
  attachInterrupt(digitalPinToInterrupt(SENSOR_PIN[0]), onFlash, RISING);
  attachInterrupt(digitalPinToInterrupt(SENSOR_PIN[1]), onScreen, RISING);
}

static void driveFlash() {
  if (FLASH_PIN == 0xFF) return;
  const unsigned long phase = millis() % FLASH_PERIOD_MS;
  digitalWrite(FLASH_PIN, phase < FLASH_ON_MS ? HIGH : LOW);
}

void loop() {
  driveFlash();
  while (tail != head) {
    noInterrupts();
    const uint8_t channel = queue[tail].channel;
    const unsigned long at = queue[tail].micros;
    interrupts();
    tail = (tail + 1) & (QUEUE_SIZE - 1);
    Serial.print("E ");
    Serial.print(channel);
    Serial.print(' ');
    Serial.println(at);
  }
  if (dropped != 0) {
    noInterrupts();
    const uint16_t lost = dropped;
    dropped = 0;
    interrupts();
    Serial.print("# queue overflow, edges lost: ");
    Serial.println(lost);
  }
}
