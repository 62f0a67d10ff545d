// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Samples to SI values with the stream's descriptor: the channel's scan
 * layout (storagebits, realbits, shift, sign, endianness; of a repeated
 * channel the first element), then (raw + offset) * scale as IIO defines
 * them, then IIO units to SI-ish display units (temperature: IIO gives
 * milli-degrees Celsius, reported in degC; pressure: kPa as IIO).
 */
#include <stdlib.h>
#include <string.h>

#include <asm/byteorder.h>

#include "internal.h"

/* The kernel's enum iio_chan_type. */
static const char *const att_iio_types[] = {
	"voltage", "current", "power", "accel", "anglvel", "magn",
	"illuminance", "intensity", "proximity", "temp", "incli", "rot",
	"angl", "timestamp", "capacitance", "altvoltage", "cct", "pressure",
	"humidityrelative", "activity", "steps", "energy", "distance",
	"velocity", "concentration", "resistance", "ph", "uvindex",
	"electricalconductivity", "count", "index", "gravity",
	"positionrelative", "phase", "massconcentration",
};

#define ATT_IIO_TEMP		9
#define ATT_IIO_PRESSURE	17

const char *att_chan_type_name(unsigned int iio_type)
{
	if (iio_type < sizeof(att_iio_types) / sizeof(att_iio_types[0]))
		return att_iio_types[iio_type];
	return "unknown";
}

const char *att_chan_unit(unsigned int iio_type)
{
	switch (iio_type) {
	case ATT_IIO_TEMP:
		return "degC";
	case ATT_IIO_PRESSURE:
		return "kPa";
	}
	return "";
}

/* An IIO value pair as a double; 0 if ok. */
static int att_iio_val(uint32_t type, int32_t val, int32_t val2, double dflt,
		       double *out)
{
	double mag;

	switch (type) {
	case 0:
		*out = dflt;
		return 0;
	case 1:		/* IIO_VAL_INT */
		*out = val;
		return 0;
	case 2:		/* IIO_VAL_INT_PLUS_MICRO */
	case 3:		/* IIO_VAL_INT_PLUS_NANO */
	case 4:		/* IIO_VAL_INT_PLUS_MICRO_DB */
		/* as iio_format_value(): a negative val2 negates the whole */
		mag = (val < 0 ? -(double)val : (double)val) +
		      (val2 < 0 ? -(double)val2 : (double)val2) /
		      (type == 3 ? 1e9 : 1e6);
		*out = (val < 0 || val2 < 0) ? -mag : mag;
		return 0;
	case 10:	/* IIO_VAL_FRACTIONAL */
		if (!val2)
			return -1;
		*out = (double)val / (double)val2;
		return 0;
	case 11:	/* IIO_VAL_FRACTIONAL_LOG2 */
		if (val2 < 0 || val2 > 63)
			return -1;
		*out = (double)val / (double)(UINT64_C(1) << val2);
		return 0;
	}
	return -1;
}

int att_decode_channel(const struct attestio_descriptor *d, unsigned int ch,
		       const uint8_t *scan, size_t scan_len, double *value,
		       int64_t *raw)
{
	const struct attestio_channel *c;
	unsigned int bytes, off, i;
	double scale, offset, v;
	uint64_t u = 0;
	int64_t r;

	if (!d || !scan || ch >= le16_to_cpu(d->nchannels) ||
	    ch >= ATTESTIO_MAX_CHANNELS)
		return ATT_EINVAL;
	c = &d->chan[ch];
	bytes = c->storagebits / 8;
	off = le16_to_cpu(c->offset);
	if ((c->storagebits != 8 && c->storagebits != 16 &&
	     c->storagebits != 32 && c->storagebits != 64) ||
	    !c->realbits || c->realbits + c->shift > c->storagebits ||
	    (c->sign != 's' && c->sign != 'u'))
		return ATT_EPARSE;
	if ((size_t)off + bytes > scan_len ||
	    off + bytes > le32_to_cpu(d->scan_bytes))
		return ATT_EPARSE;
	for (i = 0; i < bytes; i++) {
		unsigned int b = c->endianness == ATTESTIO_BE ? i : bytes - 1 - i;

		u = u << 8 | scan[off + b];
	}
	u >>= c->shift;
	if (c->realbits < 64)
		u &= (UINT64_C(1) << c->realbits) - 1;
	if (c->sign == 's' && c->realbits < 64 &&
	    (u & (UINT64_C(1) << (c->realbits - 1))))
		u |= ~((UINT64_C(1) << c->realbits) - 1);
	memcpy(&r, &u, sizeof(r));
	if (c->sign == 'u' && c->realbits == 64 && r < 0)
		return ATT_EPARSE;	/* does not fit int64_t */
	if (raw)
		*raw = r;
	if (att_iio_val(le32_to_cpu(c->scale_type),
			(int32_t)le32_to_cpu(c->scale_val),
			(int32_t)le32_to_cpu(c->scale_val2), 1.0, &scale) ||
	    att_iio_val(le32_to_cpu(c->offset_type),
			(int32_t)le32_to_cpu(c->offset_val),
			(int32_t)le32_to_cpu(c->offset_val2), 0.0, &offset))
		return ATT_EPARSE;
	v = ((double)r + offset) * scale;
	if (le16_to_cpu(c->type) == ATT_IIO_TEMP)
		v /= 1000.0;	/* IIO: milli degrees Celsius */
	if (value)
		*value = v;
	return 0;
}
