// Placeholder until its part lands.
#include "sys.h"
