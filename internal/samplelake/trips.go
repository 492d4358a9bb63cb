package samplelake

import (
	"math/rand/v2"
	"time"
)

// Trip is one row of the sample table lake/trips: a taxi ride. The Parquet
// schema comes from the struct tags; the partition column `date` is not in
// the files but in their directory names (date=YYYY-MM-DD), as Hive, Spark,
// Trino and DuckDB lay out and read a partitioned table.
type Trip struct {
	// ID is unique and ascending over the whole table, in the order of Plan.
	ID int64 `parquet:"id"`
	// PickupAt lies on the partition's date (UTC); DropoffAt after it.
	PickupAt  time.Time `parquet:"pickup_at,timestamp(microsecond:utc)"`
	DropoffAt time.Time `parquet:"dropoff_at,timestamp(microsecond:utc)"`
	City      string    `parquet:"city,dict"`
	// Passengers is 1..4.
	Passengers int32 `parquet:"passengers"`
	// DistanceKM has one decimal.
	DistanceKM float64 `parquet:"distance_km"`
	// Fare is in euros with whole cents (so sums can be checked exactly in
	// cents).
	Fare    float64 `parquet:"fare"`
	Payment string  `parquet:"payment,dict"`
}

// cities and payments are the values of the dictionary-encoded columns.
var (
	cities   = [...]string{"Amsterdam", "Berlin", "Lisbon", "Madrid", "Paris", "Prague", "Rome", "Vienna"}
	payments = [...]string{"card", "cash", "wallet"}
)

// tripGen makes the rows of one file from its own seeded source, so a file's
// content depends only on its place in the plan.
type tripGen struct {
	rng    *rand.Rand
	nextID int64
	day    time.Time
}

// next returns the next row and its fare in cents.
func (g *tripGen) next() (Trip, int64) {
	r := g.rng
	pickup := g.day.Add(time.Duration(r.Int64N(int64(24*time.Hour/time.Second))) * time.Second)
	// Mostly short rides, a few long ones: 0.5 km to 40.4 km in 0.1 km steps.
	tenths := 5 + r.Int64N(60) + r.Int64N(60)*r.Int64N(6)
	minutes := 2 + tenths*2/10 + r.Int64N(10)
	// 3.00 base + 1.45 a km + 0.35 a minute, plus a tip of 0..19% for cards.
	cents := 300 + tenths*145/10 + minutes*35
	payment := payments[r.IntN(len(payments))]
	if payment == "card" {
		cents += cents * r.Int64N(20) / 100
	}
	t := Trip{
		ID:         g.nextID,
		PickupAt:   pickup,
		DropoffAt:  pickup.Add(time.Duration(minutes)*time.Minute + time.Duration(r.Int64N(60))*time.Second),
		City:       cities[r.IntN(len(cities))],
		Passengers: int32(1 + r.IntN(4)),
		DistanceKM: float64(tenths) / 10,
		Fare:       float64(cents) / 100,
		Payment:    payment,
	}
	g.nextID++
	return t, cents
}
