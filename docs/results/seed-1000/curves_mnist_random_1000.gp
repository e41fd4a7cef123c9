# curves_mnist_random_1000.gp -- Validation accuracy per epoch: mnist, random, 1000 training items
# Written by `poisonfarm report`; restyle and rerun with: gnuplot curves_mnist_random_1000.gp
# Data: curves_mnist_random_1000.dat (accuracies as fractions; this script shows them in %).
reset
set encoding utf8
set terminal pngcairo size 1000,620 noenhanced font "sans,12"
set output "curves_mnist_random_1000.png"
set grid lc rgb "#dddddd"
set key outside right top noenhanced
set style fill transparent solid 0.18 noborder
set title "Validation accuracy per epoch: mnist, random, 1000 training items"
set xlabel "epoch"
set ylabel "validation accuracy (%)"
set xrange [1:51]
set xtics 6
set yrange [0:100]
set ytics 10
set key title "poisoned"
plot \
  "curves_mnist_random_1000.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" lw 2 pt 7 ps 0.5 title "0 %", \
  "curves_mnist_random_1000.dat" index 1 using 1:($2*100) with linespoints lc rgb "#2176b3" lw 2 pt 7 ps 0.5 title "1 %", \
  "curves_mnist_random_1000.dat" index 2 using 1:($2*100) with linespoints lc rgb "#2375b1" lw 2 pt 7 ps 0.5 title "2 %", \
  "curves_mnist_random_1000.dat" index 3 using 1:($2*100) with linespoints lc rgb "#2475b0" lw 2 pt 7 ps 0.5 title "3 %", \
  "curves_mnist_random_1000.dat" index 4 using 1:($2*100) with linespoints lc rgb "#2674ae" lw 2 pt 7 ps 0.5 title "4 %", \
  "curves_mnist_random_1000.dat" index 5 using 1:($2*100) with linespoints lc rgb "#2873ad" lw 2 pt 7 ps 0.5 title "5 %", \
  "curves_mnist_random_1000.dat" index 6 using 1:($2*100) with linespoints lc rgb "#2c71aa" lw 2 pt 7 ps 0.5 title "7 %", \
  "curves_mnist_random_1000.dat" index 7 using 1:($2*100) with linespoints lc rgb "#316fa6" lw 2 pt 7 ps 0.5 title "10 %", \
  "curves_mnist_random_1000.dat" index 8 using 1:($2*100) with linespoints lc rgb "#3a6b9f" lw 2 pt 7 ps 0.5 title "15 %", \
  "curves_mnist_random_1000.dat" index 9 using 1:($2*100) with linespoints lc rgb "#446798" lw 2 pt 7 ps 0.5 title "20 %", \
  "curves_mnist_random_1000.dat" index 10 using 1:($2*100) with linespoints lc rgb "#4d6391" lw 2 pt 7 ps 0.5 title "25 %", \
  "curves_mnist_random_1000.dat" index 11 using 1:($2*100) with linespoints lc rgb "#565f8a" lw 2 pt 7 ps 0.5 title "30 %", \
  "curves_mnist_random_1000.dat" index 12 using 1:($2*100) with linespoints lc rgb "#5f5b83" lw 2 pt 7 ps 0.5 title "35 %", \
  "curves_mnist_random_1000.dat" index 13 using 1:($2*100) with linespoints lc rgb "#68577c" lw 2 pt 7 ps 0.5 title "40 %", \
  "curves_mnist_random_1000.dat" index 14 using 1:($2*100) with linespoints lc rgb "#7b4f6e" lw 2 pt 7 ps 0.5 title "50 %", \
  "curves_mnist_random_1000.dat" index 15 using 1:($2*100) with linespoints lc rgb "#8d4760" lw 2 pt 7 ps 0.5 title "60 %", \
  "curves_mnist_random_1000.dat" index 16 using 1:($2*100) with linespoints lc rgb "#9f3f52" lw 2 pt 7 ps 0.5 title "70 %", \
  "curves_mnist_random_1000.dat" index 17 using 1:($2*100) with linespoints lc rgb "#b13744" lw 2 pt 7 ps 0.5 title "80 %", \
  "curves_mnist_random_1000.dat" index 18 using 1:($2*100) with linespoints lc rgb "#c42f36" lw 2 pt 7 ps 0.5 title "90 %", \
  "curves_mnist_random_1000.dat" index 19 using 1:($2*100) with linespoints lc rgb "#d62728" lw 2 pt 7 ps 0.5 title "100 %"
set terminal svg size 1000,620 dynamic noenhanced font "sans,12"
set output "curves_mnist_random_1000.svg"
replot
set output
