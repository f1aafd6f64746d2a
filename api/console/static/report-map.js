// The portal's map for a report in public space: a click (or a tap) places the pin and fills the
// latitude and longitude fields, which stay on the page for keyboards and for browsers without
// JavaScript. Tiles come from the platform's setting (TOWNHALL_MAP_TILES_URL); Leaflet is vendored.
(function () {
  "use strict";
  var box = document.getElementById("report-map");
  if (!box || !window.L) { return; }
  var lat = document.getElementById("field-lat");
  var long = document.getElementById("field-long");
  var start = [parseFloat(box.dataset.lat), parseFloat(box.dataset.long)];
  box.hidden = false;
  var map = window.L.map(box).setView(start, 15);
  window.L.tileLayer(box.dataset.tiles, {maxZoom: 19, attribution: box.dataset.attribution}).addTo(map);
  var pin = null;
  function place(at) {
    if (pin) { pin.setLatLng(at); } else { pin = window.L.marker(at).addTo(map); }
  }
  if (lat && long && lat.value && long.value) { place([parseFloat(lat.value), parseFloat(long.value)]); }
  map.on("click", function (event) {
    place(event.latlng);
    if (lat) { lat.value = event.latlng.lat.toFixed(6); }
    if (long) { long.value = event.latlng.lng.toFixed(6); }
  });
})();
